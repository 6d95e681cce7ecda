#!/usr/bin/env bash
# A kind cluster that `EBB_E2E_CLUSTER=current npm run test:e2e` can test, as the local cluster is
# tested on our machines (.github/workflows/e2e-kind.yaml runs it; it needs Docker, kind, kubectl
# and sudo). It builds ebb's image and the test apps' images into a local registry that the nodes
# reach as dev.local, and routes the cluster's Service and Pod ranges to the node, as the local
# cluster does, because the suites call ClusterIPs and pod IPs from the host. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=ebb
REGISTRY=kind-registry
REGISTRY_PORT=5001
APPS=(helloworld echo autoscale failing slowstart webhook)

if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY" 2>/dev/null || true)" != true ]; then
  docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" --name "$REGISTRY" registry:2
fi
if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --config e2e/kind/cluster.yaml --wait 120s
fi
docker network connect kind "$REGISTRY" 2>/dev/null || true
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p /etc/containerd/certs.d/dev.local
  printf '[host."http://%s:5000"]\n  capabilities = ["pull", "resolve"]\n' "$REGISTRY" |
    docker exec -i "$node" cp /dev/stdin /etc/containerd/certs.d/dev.local/hosts.toml
done

docker build -t "localhost:${REGISTRY_PORT}/ebb:ci" .
docker push "localhost:${REGISTRY_PORT}/ebb:ci"
for app in "${APPS[@]}"; do
  docker build -f e2e/images/Dockerfile --build-arg "APP=${app}" -t "localhost:${REGISTRY_PORT}/${app}:latest" e2e/images
  docker push "localhost:${REGISTRY_PORT}/${app}:latest"
done

node_ip=$(docker inspect -f '{{.NetworkSettings.Networks.kind.IPAddress}}' "${CLUSTER}-control-plane")
sudo ip route replace 10.96.0.0/16 via "$node_ip"
sudo ip route replace 10.244.0.0/16 via "$node_ip"
echo "kind cluster ${CLUSTER} ready; images in localhost:${REGISTRY_PORT} (dev.local on the nodes); routes via ${node_ip}"
