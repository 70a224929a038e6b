//! The Tandem desktop app: a window showing the web UI, and the commands it calls. The
//! commands are thin (see `commands.rs`); the work is in `tandem-session`.

mod commands;

use std::sync::Arc;

use tauri::Manager;

fn main() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let state = commands::open_app(app.handle())?;
            app.manage(state);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { .. } = event {
                // Stop an answer in progress and let it be saved before the app goes.
                let app = window.state::<Arc<tandem_session::App>>();
                app.shutdown(std::time::Duration::from_secs(5));
            }
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tandem window opens");
}
