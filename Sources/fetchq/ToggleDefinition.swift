/// Names the switch a `Toggle` declares; ArgumentParser makes a `Toggle` from its type alone.
protocol ToggleDefinition {
    static var setting: Setting<Bool> { get }
}
