//! A migration's checksum: SHA-256 over the file's bytes with line endings normalised, so a
//! CRLF checkout of the same file is not taken for drift (a known false complaint against
//! sqlx).

use sha2::{Digest, Sha256};

/// SHA-256 in hex over `bytes` with CRLF (and lone CR) read as LF.
pub fn checksum(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                hasher.update(b"\n");
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b => hasher.update([b]),
        }
        i += 1;
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_do_not_change_the_checksum() {
        assert_eq!(checksum(b"a;\r\nb;\r\n"), checksum(b"a;\nb;\n"));
        assert_ne!(checksum(b"a;\nb;\n"), checksum(b"a;\nc;\n"));
        assert_eq!(checksum(b"").len(), 64);
    }
}
