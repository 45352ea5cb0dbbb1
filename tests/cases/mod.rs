mod extract;
mod extract_errors;
mod extract_faults;
mod upload;
