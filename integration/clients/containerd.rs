//! containerd started by hand (its CRI plugin off: `ctr` talks to the containers API) and
//! driven with `ctr`, shoji given by path per container (`--runc-binary`), as a user of the
//! default runc shim would. ctr 1.6 has no `update` and no pids flag; those steps are
//! asserted for docker and podman only.
use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::client::{Client, Limits};
use crate::daemon::Daemon;
use crate::env::{run, run_on_terminal, Driver, Env, Out};
use crate::image::IMAGE;

/// A containerd of its own and the ctr options that reach it; the daemon stops on Drop.
pub struct Containerd {
    address: String,
    shoji: String,
    run_dir: PathBuf,
    driver: Driver,
    exec_ids: Cell<u32>,
    pub daemon: Daemon,
}

impl Containerd {
    pub fn start(env: &Env, driver: Driver) -> Containerd {
        let address = env.run_dir.join("ctd.sock").display().to_string();
        let config = env.run_dir.join("containerd.toml");
        env.write_config(&config, &config_toml(env, &address));
        let args = vec![format!("--config={}", config.display())];
        let log = env.run_dir.join("containerd.log");
        let ready = || run("ctr", &["--address", &address, "version"]).code == 0;
        let daemon = Daemon::start("containerd", &args, &log, ready);
        let ctd = Containerd {
            address,
            shoji: env.shoji.display().to_string(),
            run_dir: env.run_dir.clone(),
            driver,
            exec_ids: Cell::new(0),
            daemon,
        };
        ctd.ctr(&["image", "import", &env.image.display().to_string()])
            .ok();
        ctd
    }

    pub fn ctr<S: AsRef<str>>(&self, args: &[S]) -> Out {
        let mut all = vec!["--address".to_string(), self.address.clone()];
        all.extend(args.iter().map(|a| a.as_ref().to_string()));
        run("ctr", &all)
    }

    /// `ctr run` options that put shoji (and the cgroup driver) in charge of container `id`,
    /// with containerd's default seccomp profile (ctr's `--seccomp`; without it ctr sends none).
    fn runtime_args(&self, id: &str) -> Vec<String> {
        let mut args = vec![
            "--seccomp".to_string(),
            format!("--runc-binary={}", self.shoji),
            format!("--runc-root={}", self.run_dir.join("runc").display()),
        ];
        if self.driver == Driver::Systemd {
            args.push("--runc-systemd-cgroup".into());
            args.push(format!("--cgroup=system.slice:ctr:{id}"));
        }
        args
    }

    /// The task's (pid, status) from `ctr task ls`.
    fn task(&self, id: &str) -> Option<(i32, String)> {
        let list = self.ctr(&["task", "ls"]).ok();
        list.lines().find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() == 3 && f[0] == id).then(|| (f[1].parse().unwrap(), f[2].to_string()))
        })
    }

    fn wait_stopped(&self, id: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.task(id).is_some_and(|(_, s)| s == "STOPPED") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// containerd's config: root on the bound storage, state and sockets under the run dir.
pub fn config_toml(env: &Env, address: &str) -> String {
    format!(
        "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
         disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
         [grpc]\n  address = \"{address}\"\n[ttrpc]\n  address = \"{address}.ttrpc\"\n",
        root = env.storage.join("containerd").display(),
        state = env.run_dir.join("ctd").display(),
    )
}

/// ctr 1.6 exits as soon as a process's exit status arrives, sometimes before the last of
/// its output was copied (seen with runc as with shoji, with and without a terminal): the
/// script lingers a second after its output, keeping its exit code.
fn linger(script: &str) -> String {
    format!("trap 'sleep 1' EXIT; {script}")
}

impl Client for Containerd {
    fn driver(&self) -> Driver {
        self.driver
    }

    fn limits_pids(&self) -> bool {
        false
    }

    fn run_fg(&self, name: &str, script: &str, tty: bool) -> Out {
        let mut args = vec!["run".to_string(), "--rm".into()];
        args.extend(self.runtime_args(name));
        if tty {
            args.push("--tty".into());
        }
        args.extend([
            IMAGE.into(),
            name.into(),
            "sh".into(),
            "-c".into(),
            linger(script),
        ]);
        if !tty {
            return self.ctr(&args);
        }
        let mut argv = vec!["ctr".to_string(), "--address".into(), self.address.clone()];
        argv.extend(args);
        run_on_terminal(&argv)
    }

    fn run_bg(&self, name: &str, limits: &Limits, script: &str) -> String {
        let log = self.run_dir.join(format!("{name}.log"));
        let mut args = vec!["run".to_string(), "--detach".into()];
        args.extend(self.runtime_args(name));
        args.extend([
            format!("--log-uri=file://{}", log.display()),
            format!("--memory-limit={}", limits.memory),
            format!("--cpu-shares={}", limits.cpu_shares),
        ]);
        args.extend([
            IMAGE.into(),
            name.into(),
            "sh".into(),
            "-c".into(),
            script.into(),
        ]);
        self.ctr(&args).ok();
        name.to_string()
    }

    fn exec(&self, id: &str, script: &str, tty: bool) -> Out {
        self.exec_ids.set(self.exec_ids.get() + 1);
        let exec_id = format!("--exec-id=e{}", self.exec_ids.get());
        let mut args = vec!["task".to_string(), "exec".into(), exec_id];
        if tty {
            args.push("--tty".into());
        }
        args.extend([id.into(), "sh".into(), "-c".into(), linger(script)]);
        if !tty {
            return self.ctr(&args);
        }
        let mut argv = vec!["ctr".to_string(), "--address".into(), self.address.clone()];
        argv.extend(args);
        run_on_terminal(&argv)
    }

    fn logs(&self, id: &str) -> String {
        std::fs::read_to_string(self.run_dir.join(format!("{id}.log"))).unwrap_or_default()
    }

    fn pause(&self, id: &str) {
        self.ctr(&["task", "pause", id]).ok();
    }

    fn resume(&self, id: &str) {
        self.ctr(&["task", "resume", id]).ok();
    }

    fn stats_memory_limit(&self, id: &str) -> f64 {
        let metrics = self.ctr(&["task", "metrics", id]).ok();
        let value = metrics
            .lines()
            .find_map(|l| l.strip_prefix("memory.limit_in_bytes"))
            .unwrap_or_else(|| panic!("no memory.limit_in_bytes in {metrics}"));
        value.trim().parse().unwrap()
    }

    fn update(&self, _id: &str, _limits: &Limits) -> Option<Limits> {
        None
    }

    fn kill(&self, id: &str, signal: &str) {
        self.ctr(&["task", "kill", "--signal", signal, id]).ok();
    }

    fn stop(&self, id: &str) {
        self.kill(id, "SIGTERM");
        if !self.wait_stopped(id, Duration::from_secs(1)) {
            self.kill(id, "SIGKILL");
        }
    }

    /// ctr has no `wait`: poll for STOPPED, then delete the task, which reports the code.
    fn wait(&self, id: &str) -> i32 {
        assert!(
            self.wait_stopped(id, Duration::from_secs(60)),
            "{id} never stopped"
        );
        let out = self.ctr(&["task", "delete", id]);
        assert_eq!(out.code, 0, "{out:#?}");
        out.stderr
            .split("exit with non-zero exit code ")
            .nth(1)
            .map_or(0, |rest| {
                rest.split('"').next().unwrap().trim().parse().unwrap()
            })
    }

    fn rm(&self, id: &str) {
        self.ctr(&["container", "delete", id]).ok();
    }

    fn init_pid(&self, id: &str) -> i32 {
        self.task(id).expect("a running task").0
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.run_dir.join("runc/default").join(id)
    }
}
