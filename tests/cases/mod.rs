mod extract;
mod extract_errors;
mod extract_faults;
mod openmetadata;
mod operator;
mod settings;
mod upload;
