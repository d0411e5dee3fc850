//! docker (dockerd started by hand, shoji added with `--add-runtime`) and podman (`--runtime`),
//! which share a command-line shape. Each instance has its own data root, exec root and
//! socket, so tests run side by side in one sandbox.
use std::path::{Path, PathBuf};

use crate::client::{parse_size, Client, Limits};
use crate::daemon::Daemon;
use crate::env::{run, run_on_terminal, Driver, Env, Out};
use crate::image::IMAGE;

/// docker's or podman's CLI with the global options of one instance.
pub struct Cli {
    program: String,
    global: Vec<String>,
    /// Options every `run` takes (docker: `--runtime shoji`).
    run_opts: Vec<String>,
    driver: Driver,
    /// shoji's `--root` as this client passes it.
    state_root: PathBuf,
    /// podman 4.3's `update` has no `--pids-limit`.
    updates_pids: bool,
}

/// A dockerd of its own, stopped on Drop (after the CLI, declared first, is done).
pub struct Docker {
    pub cli: Cli,
    pub daemon: Daemon,
}

/// How dockerd is told about shoji.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DockerRuntime {
    /// `dockerd --add-runtime shoji=PATH`.
    Flag,
    /// `"runtimes": {"shoji": {"path": PATH}}` in daemon.json.
    DaemonJson,
}

impl Docker {
    /// dockerd with shoji as runtime `shoji`, no bridge or iptables (the sandbox has no
    /// network to give), overlay2 on the bound storage, the given cgroup driver.
    pub fn start(env: &Env, driver: Driver, how: DockerRuntime) -> Docker {
        let shoji = env.shoji.display();
        match how {
            DockerRuntime::Flag => {
                let flag = format!("--add-runtime=shoji={shoji}");
                Docker::launch(env, driver, "{}", flag)
            }
            DockerRuntime::DaemonJson => {
                let json = format!(r#"{{"runtimes": {{"shoji": {{"path": "{shoji}"}}}}}}"#);
                Docker::start_with(env, driver, &json)
            }
        }
    }

    /// dockerd with `daemon_json` as its configuration file, which must name runtime `shoji`.
    pub fn start_with(env: &Env, driver: Driver, daemon_json: &str) -> Docker {
        Docker::launch(env, driver, daemon_json, String::new())
    }

    fn launch(env: &Env, driver: Driver, daemon_json: &str, runtime_flag: String) -> Docker {
        let socket = format!("unix://{}/docker.sock", env.run_dir.display());
        let exec_root = env.run_dir.join("dx");
        let config = env.run_dir.join("daemon.json");
        env.write_config(&config, daemon_json);
        let mut args: Vec<String> = vec![
            format!("--config-file={}", config.display()),
            format!("--data-root={}", env.storage.join("docker").display()),
            format!("--exec-root={}", exec_root.display()),
            format!("--pidfile={}", env.run_dir.join("docker.pid").display()),
            format!("--host={socket}"),
            "--bridge=none".into(),
            "--iptables=false".into(),
            "--ip6tables=false".into(),
            "--ip-masq=false".into(),
            "--storage-driver=overlay2".into(),
        ];
        if !runtime_flag.is_empty() {
            args.push(runtime_flag);
        }
        if driver == Driver::Systemd {
            args.push("--exec-opt=native.cgroupdriver=systemd".into());
        }
        let cli = Cli {
            // Debian's client, not whatever else is first on PATH.
            program: "/usr/bin/docker".into(),
            global: vec![format!("--host={socket}")],
            run_opts: vec!["--runtime=shoji".into()],
            driver,
            // dockerd 20.10 gives every runc-shim runtime the same root, named after runc.
            state_root: exec_root.join("runtime-runc/moby"),
            updates_pids: true,
        };
        let log = env.run_dir.join("dockerd.log");
        let daemon = Daemon::start("dockerd", &args, &log, || cli.cmd(&["version"]).code == 0);
        cli.cmd(&["load", "-i", &env.image.display().to_string()])
            .ok();
        Docker { cli, daemon }
    }
}

/// How podman is told to use shoji.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PodmanRuntime {
    /// `podman --runtime PATH`.
    Flag,
    /// `[engine] runtime = "shoji"` and its path in /etc/containers/containers.conf.
    ContainersConf,
}

/// podman with shoji as its runtime, its image loaded; podman has no daemon.
pub fn podman(env: &Env, driver: Driver, how: PodmanRuntime) -> Cli {
    let manager = match driver {
        Driver::Cgroupfs => "cgroupfs",
        Driver::Systemd => "systemd",
    };
    let mut global = vec![
        format!("--root={}", env.storage.join("podman").display()),
        format!("--runroot={}", env.run_dir.join("prr").display()),
        format!("--tmpdir={}", env.run_dir.join("ptmp").display()),
        "--storage-driver=overlay".into(),
        "--events-backend=file".into(),
        format!("--cgroup-manager={manager}"),
    ];
    match how {
        PodmanRuntime::Flag => global.push(format!("--runtime={}", env.shoji.display())),
        PodmanRuntime::ContainersConf => {
            let conf = format!(
                "[engine]\nruntime = \"shoji\"\n[engine.runtimes]\nshoji = [\"{}\"]\n",
                env.shoji.display()
            );
            let path = Path::new("/etc/containers/containers.conf");
            env.write_system_config(path, &conf);
        }
    }
    let cli = Cli {
        program: "podman".into(),
        global,
        run_opts: Vec::new(),
        driver,
        // podman gives the runtime no --root: its default, /run/<name> for runc, crun
        // and shoji alike.
        state_root: Path::new("/run").join(env.shoji.file_name().unwrap()),
        updates_pids: false,
    };
    cli.cmd(&["load", "-i", &env.image.display().to_string()])
        .ok();
    cli
}

impl Cli {
    pub fn cmd<S: AsRef<str>>(&self, args: &[S]) -> Out {
        let mut all = self.global.clone();
        all.extend(args.iter().map(|a| a.as_ref().to_string()));
        run(&self.program, &all)
    }

    fn run_args(&self, extra: &[String], script: &str) -> Vec<String> {
        let mut args = vec!["run".to_string(), "--network=none".into()];
        args.extend(self.run_opts.iter().cloned());
        args.extend(extra.iter().cloned());
        args.extend([IMAGE.to_string(), "sh".into(), "-c".into(), script.into()]);
        args
    }

    fn limit_args(&self, limits: &Limits, pids: bool) -> Vec<String> {
        let mut args = vec![
            format!("--memory={}", limits.memory),
            format!("--cpu-shares={}", limits.cpu_shares),
        ];
        if let (Some(p), true) = (limits.pids, pids) {
            args.push(format!("--pids-limit={p}"));
        }
        args
    }
}

impl Client for Cli {
    fn driver(&self) -> Driver {
        self.driver
    }

    fn limits_pids(&self) -> bool {
        true
    }

    fn run_fg(&self, name: &str, script: &str, tty: bool) -> Out {
        let mut extra = vec!["--rm".to_string(), format!("--name={name}")];
        if tty {
            extra.push("-it".into());
        }
        let args = self.run_args(&extra, script);
        if !tty {
            return self.cmd(&args);
        }
        let mut argv = vec![self.program.clone()];
        argv.extend(self.global.iter().cloned());
        argv.extend(args);
        run_on_terminal(&argv)
    }

    fn run_bg(&self, name: &str, limits: &Limits, script: &str) -> String {
        let mut extra = vec!["-d".to_string(), format!("--name={name}")];
        extra.extend(self.limit_args(limits, true));
        let out = self.cmd(&self.run_args(&extra, script)).ok();
        out.trim().to_string()
    }

    fn exec(&self, id: &str, script: &str, tty: bool) -> Out {
        let mut args = vec!["exec".to_string()];
        if tty {
            args.push("-it".into());
        }
        args.extend([id.to_string(), "sh".into(), "-c".into(), script.into()]);
        if !tty {
            return self.cmd(&args);
        }
        let mut argv = vec![self.program.clone()];
        argv.extend(self.global.iter().cloned());
        argv.extend(args);
        run_on_terminal(&argv)
    }

    fn logs(&self, id: &str) -> String {
        self.cmd(&["logs", id]).ok()
    }

    fn pause(&self, id: &str) {
        self.cmd(&["pause", id]).ok();
    }

    fn resume(&self, id: &str) {
        self.cmd(&["unpause", id]).ok();
    }

    fn stats_memory_limit(&self, id: &str) -> f64 {
        let usage = self
            .cmd(&["stats", "--no-stream", "--format={{.MemUsage}}", id])
            .ok();
        let (_, limit) = usage
            .trim()
            .split_once(" / ")
            .unwrap_or_else(|| panic!("stats MemUsage {usage:?}"));
        parse_size(limit)
    }

    fn update(&self, id: &str, limits: &Limits) -> Option<Limits> {
        let mut args = vec!["update".to_string()];
        args.extend(self.limit_args(limits, self.updates_pids));
        // docker refuses a memory limit above the swap limit it set at run (twice the old).
        args.push(format!("--memory-swap={}", limits.memory * 2));
        args.push(id.to_string());
        self.cmd(&args).ok();
        let pids = if self.updates_pids { limits.pids } else { None };
        Some(Limits { pids, ..*limits })
    }

    fn kill(&self, id: &str, signal: &str) {
        self.cmd(&["kill", &format!("--signal={signal}"), id]).ok();
    }

    fn stop(&self, id: &str) {
        self.cmd(&["stop", "--time=1", id]).ok();
    }

    fn wait(&self, id: &str) -> i32 {
        let code = self.cmd(&["wait", id]).ok();
        code.trim()
            .parse()
            .unwrap_or_else(|_| panic!("wait printed {code:?}"))
    }

    fn rm(&self, id: &str) {
        self.cmd(&["rm", id]).ok();
    }

    fn init_pid(&self, id: &str) -> i32 {
        let pid = self.cmd(&["inspect", "--format={{.State.Pid}}", id]).ok();
        pid.trim().parse().unwrap()
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.state_root.join(id)
    }
}
