import Glibc

/// On/off switches read from the environment, to measure what an optimisation buys
/// (`SHARDVAULT_DIRECT_WRITES=off`, `SHARDVAULT_PACK_SMALL_BLOCKS=off`): on unless the
/// variable says off, 0, no or false.
public enum EnvironmentSwitch {
    public static func isOn(_ variable: String) -> Bool {
        guard let value = getenv(variable) else { return true }
        return !["off", "0", "no", "false"].contains(String(cString: value).lowercased())
    }
}
