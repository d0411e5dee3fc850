//! `shoji create`
use std::path::PathBuf;

use anyhow::Result;

use super::GlobalArgs;
use crate::container::create::{create, CreateOptions};
use crate::state::Store;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Path to the root of the bundle directory, defaults to the current directory
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Specify the file to write the process id to
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Do not use pivot root to jail process inside rootfs
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container id
    pub id: String,
}

impl CreateArgs {
    pub fn options(&self, g: &GlobalArgs) -> CreateOptions {
        CreateOptions {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            console_socket: self.console_socket.clone(),
            local_console: None,
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
            systemd_cgroup: g.systemd_cgroup,
        }
    }
}

pub fn run(g: &GlobalArgs, a: CreateArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    create(&store, &a.options(g))?;
    Ok(0)
}
