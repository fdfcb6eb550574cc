# The two commands of the README: `make run` starts MailShield, `make test` runs every test.
.PHONY: run test check lock

run:
	scripts/run

test:
	scripts/test

check:
	scripts/check

lock:
	uv lock
