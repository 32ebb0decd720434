// Compiled only to produce the shared precompiled header (src/pch.hpp).
