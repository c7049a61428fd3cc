/// The names Ladybird's IPC generator derives from snake_case message names.
public enum SchemaNaming {
    /// Upper-cases the first letter and every letter after `_`, drops the underscores, keeps the rest as is:
    /// `get_client_id` → `GetClientId`.
    public static func pascalCase(_ identifier: String) -> String {
        var result = ""
        result.reserveCapacity(identifier.utf8.count)
        var startsWord = true
        for character in identifier {
            if character == "_" {
                startsWord = true
                continue
            }
            if startsWord {
                result += character.uppercased()
                startsWord = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `get_client_id` → `GetClientIdResponse`.
    public static func responseName(of messageName: String) -> String {
        pascalCase(messageName) + "Response"
    }
}
