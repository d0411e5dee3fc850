//! Tier 1: end-to-end tests of the runtime binary as root on this host (cgroup v1 or hybrid),
//! with the cgroupfs driver. Each test builds its own busybox bundle and uses its own `--root`.
//! Run against runc with `SHOJI_RUNTIME=/usr/sbin/runc cargo test --test host`.
//!
//! Tests assert what shoji promises, which is runc's behaviour except where runc (Debian's
//! 1.1.5) is laxer or older. Those fail against runc by design:
//! - bad_input: malformed_json_names_line_and_column (no line/column), unsupported_oci_version
//!   and user_mappings_without_user_namespace (accepted), user_namespace_path_with_mappings
//!   (fails, but with a two-line nsexec error), malformed_systemd_format_cgroups_path_for_cgroupfs
//!   (runc makes the literal directory)
//! - cgroupfs::systemd_path_without_flag_lands_where_systemd_would (runc makes the literal
//!   directory `x.slice:prefix:name`; shoji places it at `/x.slice/prefix-name.scope`, as
//!   systemd would, with a warning)
//! - hooks::hooks_run_in_order_with_state_on_stdin (runc runs poststart at create and passes
//!   status "creating"; runtime-tools and crun say "created")
//! - lifecycle::concurrent_creates_of_one_id (runc lets two creates of one id both succeed)
//! - namespaces::time_namespace, rootfs::hostname_and_domainname (not supported by 1.1.5)
//! - log::debug_logs_the_steps_of_exec_kill_and_delete (runc's kill logs nothing at debug)
//! - runc_cli::version_has_runcs_three_lines (1.1.5 has no `version` command; newer runc
//!   does), runc_cli::delete_right_after_kill_always_succeeds (runc has the race)
//! - check::* (`check` is shoji's own command) and check::state_reports_the_cgroup_identity_ebpf_sees
//!   (runc's state has no cgroupPath or cgroupId)

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod big_state;
mod cgroupfs;
mod check;
mod confinement;
mod console;
mod crash_loop;
mod cwd_escape;
mod exe_seal;
mod hooks;
mod lifecycle;
mod log;
mod namespaces;
mod ops;
mod process;
mod rootfs;
mod run_tty;
mod runc_cli;
mod seccomp;
mod shared_cgroup;
mod spec_cmd;
mod start_trigger;
mod state_json;
