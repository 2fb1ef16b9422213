//! deploy/: the DaemonSet and ConfigMap against the Kubernetes schemas (kubernetes-validate) and the
//! Prometheus configs with promtool, through deploy/validate.sh; the DaemonSet's script compiles.

use vt_testkit::*;

#[test]
fn deploy_manifests_validate() {
    if on_path("kubernetes-validate").is_none() || on_path("promtool").is_none() {
        skip("deploy_manifests_validate", "kubernetes-validate or promtool missing (tests/run.sh installs them)");
        return;
    }
    let out = std::process::Command::new("bash").arg(workspace_root().join("deploy/validate.sh")).output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn the_daemonsets_script_compiles() {
    let manifest = std::fs::read_to_string(workspace_root().join("deploy/daemonset.yaml")).unwrap();
    let start = manifest.find("script.vt: |\n").expect("the ConfigMap's script") + "script.vt: |\n".len();
    let script: String = manifest[start..].lines().take_while(|l| l.starts_with("    ")).map(|l| format!("{}\n", &l[4..])).collect();
    let out = run_vt(&["-d", "--tracefs", &workspace_root().join("testkit/fixtures/tracefs").display().to_string(), "-e", &script], std::time::Duration::from_secs(60));
    assert!(out.status.success(), "{script}\n{}", text(&out.stderr));
}
