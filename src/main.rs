//! The `estate` binary: estate with the migrators it ships (SQL files, blueprints, sqlx and
//! diesel sets) and no Rust migrator of a user's own.

fn main() -> std::process::ExitCode {
    estate::App::new().run()
}
