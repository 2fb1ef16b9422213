#!/usr/bin/env bash
# Validates deploy/: the Kubernetes manifests against the Kubernetes JSON schemas (kubernetes-validate,
# from PyPI) and the Prometheus configs with promtool (Debian's prometheus). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")"
command -v kubernetes-validate >/dev/null || pip3 install -q kubernetes-validate ||
    pip3 install -q --break-system-packages kubernetes-validate  # Debian's pip3 (PEP 668)
command -v promtool >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
kubernetes-validate --strict daemonset.yaml
promtool check config prometheus.yml
# Debian's promtool is built without Kubernetes service discovery: there it cannot read
# prometheus-k8s.yml, which upstream's promtool checks (the failure is said, not hidden).
if ! out=$(promtool check config prometheus-k8s.yml 2>&1); then
    if grep -q "kubernetes_sd_configs not found" <<<"$out"; then
        echo "deploy/validate.sh: this promtool has no Kubernetes discovery; prometheus-k8s.yml not checked" >&2
    else
        echo "$out" >&2
        exit 1
    fi
fi
echo "deploy/validate.sh: ok"
