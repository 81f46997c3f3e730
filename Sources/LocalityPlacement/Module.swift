// Placeholder so the target builds; replaced by the LocalityPlacement implementation.
import LocalityCore
