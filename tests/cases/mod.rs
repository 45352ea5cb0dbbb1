mod extract;
mod extract_errors;
mod extract_faults;
mod run_directory;
mod upload;
