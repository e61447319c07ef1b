//! Where the store lives by default. One test in its own binary: it sets
//! environment variables, which no other thread may be reading.

use std::path::PathBuf;

use yardstick_store::Store;

#[test]
fn env_then_xdg_then_home() {
    std::env::set_var("YARDSTICK_STORE", "/tmp/explicit.sqlite");
    std::env::set_var("XDG_DATA_HOME", "/tmp/xdg");
    std::env::set_var("HOME", "/tmp/home");
    assert_eq!(
        Store::default_path().unwrap(),
        PathBuf::from("/tmp/explicit.sqlite")
    );
    std::env::remove_var("YARDSTICK_STORE");
    assert_eq!(
        Store::default_path().unwrap(),
        PathBuf::from("/tmp/xdg/yardstick/runs.sqlite")
    );
    std::env::set_var("XDG_DATA_HOME", "");
    assert_eq!(
        Store::default_path().unwrap(),
        PathBuf::from("/tmp/home/.local/share/yardstick/runs.sqlite")
    );
    std::env::remove_var("XDG_DATA_HOME");
    std::env::remove_var("HOME");
    assert!(Store::default_path().is_err());
}
