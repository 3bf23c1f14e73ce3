#include "controller/interrupt.hpp"

#include <signal.h>

#include <atomic>

namespace ferry::controller {
namespace {

// Lock-free atomics are async-signal-safe; nothing else is touched here.
std::atomic<int> received_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_interrupt(int signal_number) {
  int none = 0;
  received_signal.compare_exchange_strong(none, signal_number);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A closed connection must be an error value, not the end of the process.
  signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return received_signal.load() != 0; }

int interrupt_signal() { return received_signal.load(); }

void reset_interrupt() { received_signal.store(0); }

}  // namespace ferry::controller
