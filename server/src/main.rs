#![recursion_limit = "256"]
//! `messio` — serves the app. `messio demo` first fills a sample organization.

use server::config::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    // Outside cargo-leptos these tell the SSR pages where the compiled front end lives.
    for (name, default) in [
        ("LEPTOS_OUTPUT_NAME", "messio"),
        ("LEPTOS_WASM_OUTPUT_NAME", "messio"),
        ("LEPTOS_SITE_ROOT", "target/site"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: no other thread exists yet; the runtime is built below.
            unsafe { std::env::set_var(name, default) };
        }
    }
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version print to stdout and succeed; a bad value stops here.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.settings.log))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("messio: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), server::BoxError> {
    let config = cli.settings.resolve();
    let mut leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.site_addr;
    let addr = config.site_addr;
    let demo = cli.command == Some(Command::Demo);
    let messio = server::build(config, leptos_options).await?;
    if demo {
        let login = server::channels::demo::seed::seed(&messio.state).await?;
        println!(
            "Demo organization ready: log in as {} with password {}",
            login.email, login.password
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("Messio is running on http://{addr}");
    axum::serve(server::listener(listener), messio.router.clone())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    messio.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
