//! `yardstick system`: the description of the machine benchmarks run on.
//!
//! `init` writes the system file, the facts no probe can know (submitter,
//! division, availability, ...): by prompting when stdin is a terminal, else
//! from flags. `show` prints the captured description, as text, as JSON, or as
//! the flat field set of an MLPerf Inference `systems/<system>.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use yardstick_sysinfo::{
    capture, default_system_file, CaptureOptions, SystemDescription, UserSystem, SYSTEM_FILE_ENV,
    USER_TEXT_FIELDS,
};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Write the system file: the facts about this system no probe can know.
    Init(Box<InitArgs>),
    /// Print the system description (probed facts and the system file).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The system file [default: $YARDSTICK_SYSTEM_FILE, else
    /// $XDG_CONFIG_HOME/yardstick/system.toml].
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Never prompt, even on a terminal: only the flags are written.
    #[arg(long)]
    no_prompt: bool,
    /// System name, e.g. 8xH100_TRT (MLPerf `system_name`).
    #[arg(long)]
    system_name: Option<String>,
    /// Submitting organisation.
    #[arg(long)]
    submitter: Option<String>,
    /// Contact e-mail for the submission.
    #[arg(long)]
    submitter_contact: Option<String>,
    /// closed or open.
    #[arg(long)]
    division: Option<String>,
    /// available, preview or rdi (MLPerf `status`).
    #[arg(long)]
    status: Option<String>,
    /// datacenter or edge.
    #[arg(long)]
    system_type: Option<String>,
    #[arg(long)]
    system_type_detail: Option<String>,
    /// The inference software and its version.
    #[arg(long)]
    framework: Option<String>,
    /// air or liquid.
    #[arg(long)]
    cooling: Option<String>,
    #[arg(long)]
    hw_notes: Option<String>,
    #[arg(long)]
    sw_notes: Option<String>,
    #[arg(long)]
    other_hardware: Option<String>,
    #[arg(long)]
    host_networking_topology: Option<String>,
    /// Nodes in the system (default 1).
    #[arg(long)]
    number_of_nodes: Option<u32>,
    /// Set any MLPerf field verbatim over what is probed (repeatable), e.g.
    /// --set "host_memory_configuration=16 x 64GB DDR5-4800".
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
}

impl InitArgs {
    fn text_flags(&self) -> [(&'static str, &Option<String>); 13] {
        [
            ("system_name", &self.system_name),
            ("submitter", &self.submitter),
            ("submitter_contact", &self.submitter_contact),
            ("division", &self.division),
            ("status", &self.status),
            ("system_type", &self.system_type),
            ("system_type_detail", &self.system_type_detail),
            ("framework", &self.framework),
            ("cooling", &self.cooling),
            ("hw_notes", &self.hw_notes),
            ("sw_notes", &self.sw_notes),
            ("other_hardware", &self.other_hardware),
            ("host_networking_topology", &self.host_networking_topology),
        ]
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The system file [default: $YARDSTICK_SYSTEM_FILE, else
    /// $XDG_CONFIG_HOME/yardstick/system.toml].
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// The whole description as JSON.
    #[arg(long, conflicts_with = "mlperf")]
    json: bool,
    /// The MLPerf Inference systems/<system>.json field set, as JSON.
    #[arg(long)]
    mlperf: bool,
    /// Leave the hostname out.
    #[arg(long)]
    withhold_hostname: bool,
    /// Do not load NVML.
    #[arg(long)]
    no_gpus: bool,
}

pub fn run(command: SystemCommand) -> Result<ExitCode> {
    match command {
        SystemCommand::Init(args) => init(*args),
        SystemCommand::Show(args) => show(args),
    }
}

/// The system file named by --file, else $YARDSTICK_SYSTEM_FILE, else the
/// per-user default.
fn system_file(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    if let Some(path) = std::env::var_os(SYSTEM_FILE_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    Ok(default_system_file()?)
}

fn init(args: InitArgs) -> Result<ExitCode> {
    let path = system_file(args.file.clone())?;
    // Start from what is there, so that flags update one field at a time.
    let mut user = if path.exists() {
        UserSystem::load(&path).context("cannot update the existing system file")?
    } else {
        UserSystem::default()
    };
    for (key, value) in args.text_flags() {
        if let Some(value) = value {
            user.set_text(key, value);
        }
    }
    if let Some(nodes) = args.number_of_nodes {
        if nodes == 0 {
            bail!("--number-of-nodes must be at least 1");
        }
        user.number_of_nodes = Some(nodes);
    }
    for assignment in &args.set {
        let Some((field, value)) = assignment.split_once('=') else {
            bail!("--set {assignment:?}: expected FIELD=VALUE");
        };
        let field = field.trim();
        if field.is_empty() {
            bail!("--set {assignment:?}: the field name is empty");
        }
        user.mlperf.insert(
            field.to_owned(),
            serde_json::Value::String(value.to_owned()),
        );
    }
    let stdin = std::io::stdin();
    if !args.no_prompt && stdin.is_terminal() {
        prompt(&mut user, &mut stdin.lock(), &mut std::io::stderr())?;
    }
    for warning in check_values(&user) {
        eprintln!("yardstick: warning: {warning}");
    }
    user.save(&path)?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Asks for every text field, the current value as the default (Enter keeps
/// it, "-" clears it).
fn prompt(user: &mut UserSystem, input: &mut dyn BufRead, output: &mut dyn Write) -> Result<()> {
    writeln!(
        output,
        "The facts about this system no probe can know (Enter keeps [the value], - clears it)."
    )?;
    for (key, question) in USER_TEXT_FIELDS {
        let current = user.text(key).unwrap_or_default().to_owned();
        write!(output, "{question} [{current}]: ")?;
        output.flush()?;
        let mut line = String::new();
        if input
            .read_line(&mut line)
            .context("cannot read the answer")?
            == 0
        {
            break; // end of input: keep the rest as they are
        }
        match line.trim() {
            "" => {}
            "-" => {
                user.set_text(key, "");
            }
            answer => {
                user.set_text(key, answer);
            }
        }
    }
    Ok(())
}

/// Values the MLPerf submission checker would not accept.
fn check_values(user: &UserSystem) -> Vec<String> {
    let allowed: [(&str, &[&str]); 3] = [
        ("division", &["closed", "open", "network"]),
        ("status", &["available", "preview", "rdi"]),
        ("system_type", &["datacenter", "edge", "datacenter,edge"]),
    ];
    allowed
        .iter()
        .filter_map(|(key, values)| {
            let value = user.text(key)?;
            // Exact, case included: the checker matches division against
            // the submission's folder names.
            (!values.contains(&value))
                .then(|| format!("{key} {value:?} is not one of {}", values.join(", ")))
        })
        .collect()
}

fn show(args: ShowArgs) -> Result<ExitCode> {
    let path = system_file(args.file)?;
    // capture() reads a broken file as empty facts with a note; show says so
    // as an error instead, since the user asked to see it.
    if path.exists() {
        UserSystem::load(&path)?;
    }
    let description = capture(&CaptureOptions {
        withhold_hostname: args.withhold_hostname,
        system_file: Some(path),
        probe_gpus: !args.no_gpus,
        ..CaptureOptions::default()
    });
    let text = if args.json {
        serde_json::to_string_pretty(&description)? + "\n"
    } else if args.mlperf {
        serde_json::to_string_pretty(&description.mlperf_fields())? + "\n"
    } else {
        summary(&description)
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("cannot write to stdout")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The description in a few lines, for people (`system show`, `runs show`).
pub(crate) fn summary(d: &SystemDescription) -> String {
    let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_owned());
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<12} {value}\n"));
    line(
        "yardstick",
        format!("{} ({})", d.yardstick.version, d.yardstick.commit),
    );
    line(
        "hostname",
        d.hostname
            .clone()
            .unwrap_or_else(|| "(withheld or unknown)".to_owned()),
    );
    let cpu = &d.cpu;
    line(
        "cpu",
        format!(
            "{}; {} socket(s) x {} core(s) x {} thread(s), {} CPUs{}",
            or_unknown(cpu.model_name.clone()),
            or_unknown(cpu.sockets.map(|v| v.to_string())),
            or_unknown(cpu.cores_per_socket.map(|v| v.to_string())),
            or_unknown(cpu.threads_per_core.map(|v| v.to_string())),
            or_unknown(cpu.logical_cpus.map(|v| v.to_string())),
            cpu.max_mhz
                .map(|mhz| format!(", max {mhz:.0} MHz"))
                .unwrap_or_default()
        ),
    );
    line(
        "memory",
        or_unknown(
            d.memory
                .total_bytes
                .map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)),
        ),
    );
    line(
        "os",
        format!(
            "{}, kernel {}",
            or_unknown(d.os.pretty_name.clone()),
            or_unknown(d.os.kernel_release.clone())
        ),
    );
    match &d.gpu_driver {
        Some(driver) => line(
            "gpu driver",
            format!(
                "{} (CUDA {})",
                or_unknown(driver.driver_version.clone()),
                or_unknown(driver.cuda_driver_version.clone())
            ),
        ),
        None => line("gpu driver", "none".to_owned()),
    }
    for gpu in &d.gpus {
        line(
            &format!("gpu {}", gpu.index),
            format!(
                "{}, {} MiB, max SM {} MHz, PCIe Gen{} x{}, {} NVLink(s)",
                or_unknown(gpu.name.clone()),
                or_unknown(gpu.memory_total_bytes.map(|b| (b >> 20).to_string())),
                or_unknown(gpu.max_sm_clock_mhz.map(|v| v.to_string())),
                or_unknown(gpu.pcie_link_gen_current.map(|v| v.to_string())),
                or_unknown(gpu.pcie_link_width_current.map(|v| v.to_string())),
                gpu.nvlink_active_links
            ),
        );
    }
    line(
        "system file",
        d.system_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none (yardstick system init)".to_owned()),
    );
    for note in &d.notes {
        line("note", note.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompting_keeps_changes_and_clears() {
        let mut user = UserSystem::default();
        user.set_text("submitter", "Old");
        user.set_text("division", "open");
        // system_name: new; submitter: kept; contact: empty kept; division: cleared.
        let mut input = std::io::Cursor::new("box1\n\n\n-\n");
        let mut output = Vec::new();
        prompt(&mut user, &mut input, &mut output).expect("prompt");
        assert_eq!(user.text("system_name"), Some("box1"));
        assert_eq!(user.text("submitter"), Some("Old"));
        assert_eq!(user.text("submitter_contact"), None);
        assert_eq!(user.text("division"), None);
        let shown = String::from_utf8(output).expect("utf-8");
        assert!(shown.contains("submitting organisation [Old]: "), "{shown}");
    }

    #[test]
    fn odd_values_are_warned_about() {
        let mut user = UserSystem::default();
        user.set_text("division", "Closed");
        user.set_text("status", "sold out");
        user.set_text("system_type", "edge");
        let warnings = check_values(&user);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("division \"Closed\""),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("status \"sold out\""),
            "{warnings:?}"
        );
    }
}
