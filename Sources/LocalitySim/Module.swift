// Placeholder so the target builds; replaced by the LocalitySim implementation.
import LocalityCore
