//! ordervault service.
