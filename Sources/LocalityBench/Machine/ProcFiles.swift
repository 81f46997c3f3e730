import Foundation

/// Facts about processes parsed from the text of Linux `/proc` files and of servers' pid
/// files; reading the files is the caller's job, so each parser is checked on samples.
public enum ProcFiles {
    /// The parent pid in `/proc/PID/stat` text: the field after the state, which follows
    /// the `(comm)` (a command name may itself hold spaces and parentheses).
    public static func parentPID(stat text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The socket inodes listening (state `0A`) on local `port` in `/proc/net/tcp` or
    /// `/proc/net/tcp6` text (local address `HEXIP:HEXPORT` in field 2, inode in field 10).
    public static func listeningInodes(port: Int, netTCP text: String) -> [UInt64] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[3] == "0A",
                  let colon = fields[1].lastIndex(of: ":"),
                  Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port
            else { return nil }
            return UInt64(fields[9])
        }
    }

    /// The pid on the first line of a pid file (PostgreSQL's `postmaster.pid`, Redis's
    /// `--pidfile`).
    public static func pid(pidFile text: String) -> Int32? {
        text.split(separator: "\n", omittingEmptySubsequences: false).first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }
}
