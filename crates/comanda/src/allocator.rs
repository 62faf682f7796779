//! The process's memory allocator and the options it starts with.

/// glibc's allocator spends a large share of a busy server's time consolidating and
/// returning small blocks between threads (a tokio worker allocates, a SQLite worker
/// frees); mimalloc keeps per-thread pages and measured faster under order load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What mimalloc is told, unless the environment already says otherwise.
///
/// By default mimalloc hands memory that was freed back to the system only when later
/// allocator work comes round after a delay, so a server that goes quiet after a burst
/// keeps the burst: first-run setup hashes the owner's password with Argon2's 19 MiB,
/// and an idle server held all of it (55 MiB resident against 32 MiB after a later
/// start). With no delay, freed memory goes back when it is freed. Without eager commit
/// the arena mimalloc reserves at start is taken from the system as it is used, not all
/// at once.
const OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// mimalloc reads its options from the environment as the process starts, before
/// `main`, and has no safe way to change them after; so the process sets them and
/// becomes itself again (`exec`: the same process id, arguments and open files) once.
/// If that fails (the binary was replaced on disk meanwhile), it goes on with
/// mimalloc's defaults, which only cost memory.
pub fn start_with_options() {
    if OPTIONS
        .iter()
        .all(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    let Ok(binary) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(binary);
    if let Some(name) = args.next() {
        std::os::unix::process::CommandExt::arg0(&mut command, name);
    }
    command.args(args);
    for (name, value) in OPTIONS {
        if std::env::var_os(name).is_none() {
            command.env(name, value);
        }
    }
    // Returns only if the process could not become the new one.
    let _ = std::os::unix::process::CommandExt::exec(&mut command);
}
