mod common;
use common::*;

#[test]
fn install_creates_tables_in_the_right_databases() {
    let s = Scratch::new();
    s.estate(&["tenants", "add", "acme"]).expect(0);
    s.estate(&["install", "billing", "--tenant", "acme"])
        .expect(0);
    assert!(tables(&s.tenant_db("acme")).contains(&"invoices".to_string()));
    assert!(tables(&s.landlord()).contains(&"users".to_string()));
}
