//! The incident engine. (The engine issue fills this in.)
