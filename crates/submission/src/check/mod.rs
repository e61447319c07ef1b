//! `check DIR`: a submission tree checked as the official submission checker of its round does.
