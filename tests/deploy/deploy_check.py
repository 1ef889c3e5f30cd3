#!/usr/bin/python3
"""Checks the deployment files without a Docker engine (none runs here):

- docker/compose.yaml parses, has the seed deployment's services, uses only
  variables docker/lab.env defines, and every file or directory it mounts or
  builds from exists;
- docker/Dockerfile builds from Debian 12 images only, has the stages the
  compose file names, copies only what exists, and runs the proxy as a
  non-root user;
- docker/lab.env has every value scripts/lab.py (the lab) takes from it;
- Prometheus accepts docker/prometheus.yml (promtool check config);
- Grafana is provisioned with the dashboard in dashboards/;
- packaging/redis-ha-proxy.service passes systemd-analyze verify (where
  systemd is installed) and has the hardening it promises.

Exit status 1 with one line per problem.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import lab  # noqa: E402  (scripts/lab.py: how docker/lab.env is read)
DOCKER = os.path.join(REPO, "docker")
problems = []


def problem(text):
    problems.append(text)


def read(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


env = lab.read_env()

compose_text = read("docker/compose.yaml")
compose = yaml.safe_load(compose_text)
services = compose.get("services", {})
for name in ["redis-1", "redis-2", "redis-3", "sentinel-1", "sentinel-2", "sentinel-3", "proxy",
             "prometheus", "grafana"]:
    if name not in services:
        problem(f"compose.yaml: service {name} is missing")

# ${VAR} is compose substitution; $$ escapes a literal $ for the container's shell.
for var in set(re.findall(r"(?<!\$)\$\{([A-Z_]+)\}", compose_text)):
    if var not in env:
        problem(f"compose.yaml uses ${{{var}}}, which docker/lab.env does not define")

stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", read("docker/Dockerfile"), re.M))
# The image builds the proxy from copied folders: each one CMakeLists.txt
# compiles must be copied (the commands/ layer once was not).
dockerfile = read("docker/Dockerfile")
copied = set(re.findall(r"^COPY\s+(\S+)\s", dockerfile, re.M))
for folder in sorted(set(re.findall(r"\b([a-z]+)/[a-z_]+\.cc\b", read("CMakeLists.txt")))):
    if folder not in copied:
        problem(f"docker/Dockerfile does not COPY {folder}/, which CMakeLists.txt compiles")
for name, service in services.items():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith(".") and not os.path.exists(os.path.join(DOCKER, source)):
            problem(f"compose.yaml: {name} mounts {source}, which does not exist")
    build = service.get("build")
    if build:
        context = os.path.join(DOCKER, build["context"])
        if not os.path.isdir(context):
            problem(f"compose.yaml: {name} builds from {build['context']}, not a directory")
        if not os.path.isfile(os.path.join(context, build.get("dockerfile", "Dockerfile"))):
            problem(f"compose.yaml: {name} names a Dockerfile that does not exist")
        if build.get("target") and build["target"] not in stages:
            problem(f"compose.yaml: {name} builds target {build['target']}, not a Dockerfile stage")
    if "image" not in service and "build" not in service:
        problem(f"compose.yaml: {name} has neither image nor build")

proxy_command = " ".join(services.get("proxy", {}).get("command", []))
for sentinel in ("sentinel-1", "sentinel-2", "sentinel-3"):
    if f"--sentinel={sentinel}:26379" not in proxy_command:
        problem(f"compose.yaml: the proxy does not list {sentinel}")
if "--master-name=${LAB_MASTER_NAME}" not in proxy_command:
    problem("compose.yaml: the proxy's master name does not come from lab.env")

dockerfile = read("docker/Dockerfile")
for image in re.findall(r"^FROM\s+(\S+)", dockerfile, re.M):
    if not image.startswith("debian:12"):
        problem(f"Dockerfile: base image {image} is not Debian 12")
for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s+\S+", dockerfile, re.M):
    if not os.path.exists(os.path.join(REPO, source)):
        problem(f"Dockerfile: COPY {source}, which does not exist")
proxy_stage = dockerfile.split("AS proxy", 1)[-1]
user = re.search(r"^USER\s+(\S+)", proxy_stage, re.M)
if not user or user.group(1) in ("root", "0"):
    problem("Dockerfile: the proxy stage does not run as an unprivileged user")

for key in ("LAB_MASTER_NAME", "LAB_QUORUM", "LAB_DOWN_AFTER_MS", "LAB_FAILOVER_TIMEOUT_MS",
            "PROXY_PORT", "ADMIN_PORT"):
    if key not in env:
        problem(f"docker/lab.env does not define {key}, which scripts/lab.py needs")

check = subprocess.run(["promtool", "check", "config", os.path.join(DOCKER, "prometheus.yml")],
                       capture_output=True, text=True)
if check.returncode != 0:
    problem("promtool rejects docker/prometheus.yml: " + (check.stdout + check.stderr).strip())

provider = yaml.safe_load(read("docker/grafana/provisioning/dashboards/redis-ha-proxy.yaml"))
path = provider["providers"][0]["options"]["path"]
grafana_volumes = services.get("grafana", {}).get("volumes", [])
mounted = [v for v in grafana_volumes if v.split(":")[1] == path]
if not mounted:
    problem(f"grafana: nothing is mounted at the dashboard provider's path {path}")
elif not os.path.isfile(os.path.join(DOCKER, mounted[0].split(":")[0], "redis-ha-proxy.json")):
    problem("grafana: the mounted dashboard directory has no redis-ha-proxy.json")
datasource = yaml.safe_load(read("docker/grafana/provisioning/datasources/prometheus.yaml"))
if "prometheus:9090" not in datasource["datasources"][0]["url"]:
    problem("grafana: the datasource does not point at the compose Prometheus")

# The systemd unit, with ExecStart pointed at a binary that exists here.
analyze = shutil.which("systemd-analyze")
if analyze:
    with tempfile.TemporaryDirectory() as tmp:
        unit = os.path.join(tmp, "redis-ha-proxy.service")
        with open(unit, "w") as f:
            f.write(read("packaging/redis-ha-proxy.service").replace("/usr/bin/redis-ha-proxy",
                                                                    "/bin/true"))
        verify = subprocess.run([analyze, "verify", unit], capture_output=True, text=True)
        if verify.returncode != 0 or verify.stderr.strip():
            problem("systemd-analyze verify: " + (verify.stdout + verify.stderr).strip())
else:
    print("note: no systemd-analyze here; the unit file was not verified")
unit_text = read("packaging/redis-ha-proxy.service")
for setting in ("DynamicUser=yes", "Restart=on-failure", "LimitNOFILE=", "NoNewPrivileges=yes"):
    if setting not in unit_text:
        problem(f"redis-ha-proxy.service lacks {setting}")

for line in problems:
    print(line)
print(f"{len(problems)} problems" if problems else "deployment files OK")
sys.exit(1 if problems else 0)
