//! `shoji list`: runc's table (tabwriter: min width 12, padding 3), `--format json`, `--quiet`.
use anyhow::Result;

use super::GlobalArgs;
use crate::state::{StateView, Store};

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Select one of: table or json
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Display only container IDs
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(g: &GlobalArgs, a: ListArgs) -> Result<i32> {
    let store = Store::new(&g.root)?;
    let mut views = Vec::new();
    for id in store.ids()? {
        // A container deleted while we list is simply not listed.
        if let Ok((record, dir)) = store.peek(&id) {
            views.push(record.view(&dir.fifo_path()));
        }
    }
    if a.quiet {
        views.iter().for_each(|v| println!("{}", v.id));
    } else if a.format == "json" {
        println!("{}", json(&views)?);
    } else {
        print!("{}", table(&views));
    }
    Ok(0)
}

/// An empty list is `null`, as Go marshals a nil slice, which clients already handle.
fn json(views: &[StateView]) -> Result<String> {
    if views.is_empty() {
        return Ok("null".into());
    }
    Ok(serde_json::to_string(views)?)
}

fn table(views: &[StateView]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for v in views {
        rows.push([
            v.id.clone(),
            v.pid.to_string(),
            v.status.to_string(),
            v.bundle.display().to_string(),
            v.created.clone(),
            v.owner.clone(),
        ]);
    }
    let mut widths = [12usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (w, cell) in widths.iter().zip(row.iter()) {
            out.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(&row[5]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    #[test]
    fn table_matches_tabwriter_layout() {
        let v = StateView {
            oci_version: "1.0.2".into(),
            id: "c1".into(),
            pid: 42,
            status: Status::Running,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-12-01T00:00:00Z".into(),
            owner: "root".into(),
            annotations: Default::default(),
            cgroup_path: "/c1".into(),
            cgroup_id: None,
        };
        let t = table(&[v]);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(
            lines[0],
            "ID          PID         STATUS      BUNDLE      CREATED                OWNER"
        );
        assert_eq!(
            lines[1],
            "c1          42          running     /b          2026-12-01T00:00:00Z   root"
        );
        assert_eq!(json(&[]).unwrap(), "null");
    }
}
