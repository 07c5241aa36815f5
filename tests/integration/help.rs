//! `--help` as users see it: a snapshot, so a changed flag or wording is a reviewed diff.

use crate::support::mailcheck;

#[tokio::test]
async fn top_level_help() {
    let run = mailcheck(&["--help"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Usage: mailcheck"), "{}", run.stdout);
    insta::assert_snapshot!("help", run.stdout);
}

#[tokio::test]
async fn subcommand_help() {
    let run = mailcheck(&["explain", "--help"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("help_explain", run.stdout);
    let run = mailcheck(&["schema", "--help"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("help_schema", run.stdout);
}
