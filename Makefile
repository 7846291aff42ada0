# The two set-up commands of the README. Each installs what is missing first.

.PHONY: demo test deps

deps:
	@bash scripts/install-deps.sh

# The whole pipeline on the embedded sample collection; output in demo-out/.
demo: deps
	cargo run --release -- demo --out demo-out $(DEMO_FLAGS)

# Unit and integration tests (GPU code on Mesa's lavapipe), lints, formatting.
test: deps
	cargo test --all-targets
	cargo clippy --all-targets -- -D warnings
	cargo fmt --check
