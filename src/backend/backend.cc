// Names, parsing and the factory: the parts of backend.h every backend shares.
#include "backend/backend.h"

#include "backend/microvm/microvm_backend.h"
#include "backend/namespace/namespace_backend.h"

namespace hull::backend {

const char* tier_name(Tier t) {
  switch (t) {
    case Tier::kNamespace: return "namespace";
    case Tier::kMicrovmKvm: return "microvm-kvm";
    case Tier::kMicrovmTcg: return "microvm-tcg";
  }
  return "unknown";
}

const char* backend_name(BackendKind k) {
  switch (k) {
    case BackendKind::kNamespace: return "namespace";
    case BackendKind::kMicrovm: return "microvm";
  }
  return "unknown";
}

Result<BackendKind> parse_backend(const std::string& s) {
  if (s == "namespace") return BackendKind::kNamespace;
  if (s == "microvm") return BackendKind::kMicrovm;
  return make_error("backend \"" + s + "\"", "unknown backend; choose namespace or microvm");
}

Result<std::unique_ptr<Backend>> make_backend(BackendKind kind) {
  switch (kind) {
    case BackendKind::kNamespace:
      return std::unique_ptr<Backend>(std::make_unique<NamespaceBackend>());
    case BackendKind::kMicrovm:
      return std::unique_ptr<Backend>(std::make_unique<MicrovmBackend>());
  }
  return make_error("backend", "unknown kind");
}

}  // namespace hull::backend
