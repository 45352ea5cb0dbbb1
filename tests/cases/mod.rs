mod extract;
mod extract_errors;
mod extract_faults;
mod hostile;
mod operator;
mod run_directory;
mod settings;
mod upload;
