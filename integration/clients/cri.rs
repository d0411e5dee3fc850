//! containerd's CRI plugin, driven as the kubelet would: shoji is the `shoji` runtime's
//! `BinaryName` (runc shim), `SystemdCgroup` follows the driver, `restrict_oom_score_adj`
//! is on (the sandbox lacks CAP_SYS_RESOURCE, and the pause container asks for -998). No
//! crictl exists as a Debian package: calls go through python3-grpcio with the messages
//! encoded by `proto`. A pod on the node's network (no CNI), a container with limits, exec,
//! logs, update, stop; both removed and checked for leftovers. Streaming calls (attach,
//! exec -t) and pause are not in the CRI's unary API and are left to ctr, docker and podman.
use std::path::PathBuf;

use crate::daemon::Daemon;
use crate::env::{run, Driver, Env};
use crate::image::{self, IMAGE};
use crate::proto::{hex, unhex, Fields, Msg};

/// The pod's sandbox (pause) image: busybox sleeping, built like the test image.
const PAUSE_IMAGE: &str = "localhost/pause:latest";

/// The gRPC transport: one unary call with raw request bytes (hex in argv), response in hex.
const GRPC_CALL: &str = r#"
import sys, grpc
channel = grpc.insecure_channel("unix://" + sys.argv[1])
try:
    reply = channel.unary_unary(sys.argv[2])(bytes.fromhex(sys.argv[3]), timeout=60)
except grpc.RpcError as e:
    sys.exit("%s: %s" % (e.code(), e.details()))
print(reply.hex())
"#;

pub struct Cri {
    address: String,
    pub run_dir: PathBuf,
    pub driver: Driver,
    pub daemon: Daemon,
}

impl Cri {
    pub fn start(env: &Env, driver: Driver) -> Cri {
        let address = env.run_dir.join("cri.sock").display().to_string();
        let config = env.run_dir.join("containerd-cri.toml");
        env.write_config(&config, &config_toml(env, &address, driver));
        let args = vec![format!("--config={}", config.display())];
        let log = env.run_dir.join("containerd.log");
        let ready = || run("ctr", &["--address", &address, "version"]).code == 0;
        let daemon = Daemon::start("containerd", &args, &log, ready);
        let pause = image::build(&env.storage.join("pause"), PAUSE_IMAGE, &["sleep", "1d"]);
        for tar in [&env.image, &pause] {
            let tar = tar.display().to_string();
            run(
                "ctr",
                &[
                    "--address",
                    &address,
                    "-n",
                    "k8s.io",
                    "image",
                    "import",
                    &tar,
                ],
            )
            .ok();
        }
        Cri {
            address,
            run_dir: env.run_dir.clone(),
            driver,
            daemon,
        }
    }

    /// `RuntimeService/<method>` (CRI v1); the response's fields, or the gRPC error.
    pub fn call(&self, method: &str, request: Msg) -> Result<Fields, String> {
        let path = format!("/runtime.v1.RuntimeService/{method}");
        let out = run(
            "/usr/bin/python3",
            &["-c", GRPC_CALL, &self.address, &path, &hex(&request.0)],
        );
        match out.code {
            0 => Ok(Fields::parse(&unhex(&out.stdout))),
            _ => Err(format!("{method}: {}", out.stderr.trim())),
        }
    }

    pub fn must(&self, method: &str, request: Msg) -> Fields {
        self.call(method, request).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Where the runc shim keeps shoji's state for the k8s.io namespace (its `Root` option).
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.run_dir.join("runc/k8s.io").join(id)
    }
}

fn config_toml(env: &Env, address: &str, driver: Driver) -> String {
    let cri = r#"plugins."io.containerd.grpc.v1.cri""#;
    format!(
        "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
         [grpc]\n  address = \"{address}\"\n[ttrpc]\n  address = \"{address}.ttrpc\"\n\
         [{cri}]\n  sandbox_image = \"{PAUSE_IMAGE}\"\n  restrict_oom_score_adj = true\n\
         [{cri}.cni]\n  bin_dir = \"{run}/cni\"\n  conf_dir = \"{run}/cni\"\n\
         [{cri}.containerd]\n  default_runtime_name = \"shoji\"\n\
         [{cri}.containerd.runtimes.shoji]\n  runtime_type = \"io.containerd.runc.v2\"\n\
         [{cri}.containerd.runtimes.shoji.options]\n  BinaryName = \"{shoji}\"\n\
         \x20 Root = \"{run}/runc\"\n  SystemdCgroup = {systemd}\n",
        root = env.storage.join("containerd").display(),
        state = env.run_dir.join("ctd").display(),
        run = env.run_dir.display(),
        shoji = env.shoji.display(),
        systemd = driver == Driver::Systemd,
    )
}

/// The pod: metadata, log directory, cgroup parent, the node's network namespace.
pub fn pod_config(tag: &str, log_dir: &str, cgroup_parent: &str) -> Msg {
    let metadata = Msg::new()
        .str(1, &format!("{tag}-pod"))
        .str(2, &format!("{tag}-uid"))
        .str(3, "default");
    let node_network = Msg::new().varint(1, 2);
    let security = Msg::new().msg(1, node_network);
    let linux = Msg::new().str(1, cgroup_parent).msg(2, security);
    Msg::new().msg(1, metadata).str(3, log_dir).msg(8, linux)
}

/// LinuxContainerResources: cpu shares and the memory limit.
pub fn resources(cpu_shares: u64, memory: u64) -> Msg {
    Msg::new().varint(3, cpu_shares).varint(4, memory)
}

/// A container running `sh -c script`, logging to `log`, with `resources` and the runtime's
/// default seccomp profile (what the kubelet asks for by default since 1.27).
pub fn container_config(name: &str, script: &str, log: &str, resources: Msg) -> Msg {
    let runtime_default = Msg::new();
    let security = Msg::new().msg(15, runtime_default);
    let linux = Msg::new().msg(1, resources).msg(2, security);
    Msg::new()
        .msg(1, Msg::new().str(1, name))
        .msg(2, Msg::new().str(1, IMAGE))
        .str(3, "sh")
        .str(3, "-c")
        .str(3, script)
        .str(11, log)
        .msg(15, linux)
}
