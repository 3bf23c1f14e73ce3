#include "controller/ask.hpp"

#include <cstdio>
#include <iostream>

namespace ferry::controller {

bool ask_on_terminal(const std::string& question) {
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace ferry::controller
