mod extract;
mod extract_errors;
mod extract_faults;
mod hostile;
mod openmetadata;
mod operator;
mod settings;
mod upload;
