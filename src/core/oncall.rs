//! Who is on call at an instant. (The engine issue fills this in.)
