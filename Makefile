# Build and install oncalld as a systemd service.
#
#   make                    # cargo build --release
#   sudo make install       # binary, unit, sysusers, docs, example config (if none yet)
#   sudo make uninstall     # everything but /etc/oncalld, /var/lib/oncalld and the user
#
# Packagers: make install DESTDIR=/tmp/pkg PREFIX=/usr  (with DESTDIR set, nothing is run on
# the build machine: no user creation, no systemctl).

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
UNITDIR     ?= $(LIBDIR)/systemd/system
SYSUSERSDIR ?= $(LIBDIR)/sysusers.d
DOCDIR      ?= $(PREFIX)/share/doc/oncalld
SYSCONFDIR  ?= /etc
CONFDIR     ?= $(SYSCONFDIR)/oncalld

CARGO   ?= cargo
INSTALL ?= install
BIN     := target/release/oncalld

.PHONY: all build install install-files install-config post-install uninstall check-unit

all: build

build:
	$(CARGO) build --release --locked

# Built only when missing, so `sudo make install` after `make` does not rebuild as root.
$(BIN):
	$(CARGO) build --release --locked

install: install-files install-config post-install

install-files: $(BIN)
	$(INSTALL) -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/oncalld
	$(INSTALL) -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's#/usr/local/bin/oncalld#$(BINDIR)/oncalld#g' \
	    -e 's#/usr/local/share/doc/oncalld#$(DOCDIR)#g' \
	    -e 's#/etc/oncalld/#$(CONFDIR)/#g' \
	    systemd/oncalld.service > $(DESTDIR)$(UNITDIR)/oncalld.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/oncalld.service
	$(INSTALL) -D -m 0644 systemd/oncalld.sysusers $(DESTDIR)$(SYSUSERSDIR)/oncalld.conf
	$(INSTALL) -D -m 0644 docs/SERVICE.md $(DESTDIR)$(DOCDIR)/SERVICE.md
	if [ -f checks.example.toml ]; then \
	    $(INSTALL) -D -m 0644 checks.example.toml $(DESTDIR)$(DOCDIR)/checks.example.toml; fi

# The example config is installed only if there is no config yet: never overwrite an edited one.
# 0640 because it may hold SMTP passwords and webhook secrets; the group is fixed up below.
install-config:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(CONFDIR)
	@if [ -e $(DESTDIR)$(CONFDIR)/checks.toml ]; then \
	    echo "keeping existing $(DESTDIR)$(CONFDIR)/checks.toml"; \
	elif [ -f checks.example.toml ]; then \
	    $(INSTALL) -m 0640 checks.example.toml $(DESTDIR)$(CONFDIR)/checks.toml; \
	    echo "installed example config $(DESTDIR)$(CONFDIR)/checks.toml"; \
	else \
	    echo "no checks.example.toml: write $(DESTDIR)$(CONFDIR)/checks.toml yourself"; \
	fi

# On the target machine only: create the user and group, let the daemon read its config,
# tell systemd about the new unit. Enabling the service is left to the administrator.
post-install:
	@if [ -z "$(DESTDIR)" ]; then \
	    if command -v systemd-sysusers >/dev/null; then \
	        systemd-sysusers $(SYSUSERSDIR)/oncalld.conf; fi; \
	    if [ -e $(CONFDIR)/checks.toml ] && getent group oncalld >/dev/null; then \
	        chgrp oncalld $(CONFDIR)/checks.toml; fi; \
	    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	    echo "next: edit $(CONFDIR)/checks.toml, then: systemctl enable --now oncalld"; \
	fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl disable --now oncalld 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(BINDIR)/oncalld
	rm -f $(DESTDIR)$(UNITDIR)/oncalld.service
	rm -f $(DESTDIR)$(SYSUSERSDIR)/oncalld.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "kept $(CONFDIR), /var/lib/oncalld and the oncalld user; remove them by hand if unwanted"

# The checks tests/systemd_unit.rs runs, for a quick look.
check-unit:
	systemd-analyze security --offline=yes systemd/oncalld.service | tail -n 1
