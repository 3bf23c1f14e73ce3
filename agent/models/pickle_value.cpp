#include "agent/models/pickle_value.hpp"

namespace ferry::models {

std::string_view Value::kind_name() const {
  switch (kind()) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::real: return "float";
    case Kind::string: return "str";
    case Kind::list: return "list";
    case Kind::tuple: return "tuple";
    case Kind::dict: return "dict";
    case Kind::class_ref: return "class reference";
    case Kind::fraction: return "Fraction";
    case Kind::storage: return "storage";
    case Kind::tensor: return "tensor";
  }
  return "unknown";
}

std::optional<bool> Value::as_bool() const {
  if (kind() == Kind::boolean) return std::get<bool>(data_);
  return std::nullopt;
}

std::optional<std::int64_t> Value::as_int() const {
  if (kind() == Kind::integer) return std::get<std::int64_t>(data_);
  if (kind() == Kind::boolean) return std::get<bool>(data_) ? 1 : 0;
  return std::nullopt;
}

std::optional<double> Value::as_number() const {
  if (kind() == Kind::real) return std::get<double>(data_);
  if (kind() == Kind::fraction) return std::get<Fraction>(data_).to_double();
  if (auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

const std::string* Value::as_string() const { return std::get_if<std::string>(&data_); }

const std::vector<ValuePtr>* Value::as_sequence() const {
  if (kind() == Kind::list) return &std::get<static_cast<std::size_t>(Kind::list)>(data_).items;
  if (kind() == Kind::tuple) return &std::get<static_cast<std::size_t>(Kind::tuple)>(data_).items;
  return nullptr;
}

const Dictionary* Value::as_dict() const { return std::get_if<Dictionary>(&data_); }
const ClassRef* Value::as_class() const { return std::get_if<ClassRef>(&data_); }
const Fraction* Value::as_fraction() const { return std::get_if<Fraction>(&data_); }
const TensorRef* Value::as_tensor() const { return std::get_if<TensorRef>(&data_); }

const Value* Value::get(std::string_view key) const {
  const Dictionary* dict = as_dict();
  if (!dict) return nullptr;
  auto it = key_index_.find("s:" + std::string(key));
  if (it == key_index_.end()) return nullptr;
  return dict->items[it->second].second.get();
}

}  // namespace ferry::models
