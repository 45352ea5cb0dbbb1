mod extract;
mod extract_errors;
mod extract_faults;
mod hostile;
mod metrics;
mod operator;
mod settings;
mod upload;
