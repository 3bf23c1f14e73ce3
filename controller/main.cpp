// ferry: the laptop-side controller.

#include "common/http_client.hpp"
#include "controller/cli.hpp"
#include "controller/interrupt.hpp"

int main(int argc, char** argv) {
  ferry::http_global_init();
  ferry::controller::install_interrupt_handlers();
  return ferry::controller::run_cli(argc, argv);
}
