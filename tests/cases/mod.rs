mod extract;
mod extract_errors;
mod extract_faults;
mod incremental;
mod operator;
mod settings;
mod upload;
