#pragma once
// Ctrl-C and SIGTERM for the controller: the handler only sets a flag; the
// run loop polls it between (short, bounded) steps and tears down in order.

namespace ferry::controller {

/// Installs SIGINT/SIGTERM handlers that set the flag (no SA_RESTART, so a
/// blocking sleep wakes up). Idempotent.
void install_interrupt_handlers();
/// True once SIGINT or SIGTERM arrived.
bool interrupted();
/// Which signal arrived first (0 if none).
int interrupt_signal();
/// For tests: clears the flag.
void reset_interrupt();

}  // namespace ferry::controller
