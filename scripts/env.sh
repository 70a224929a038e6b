# Shared settings for the project's scripts (sourced, not run).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tandem/target}"
export TANDEM_MODELS_DIR="${TANDEM_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/models}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
