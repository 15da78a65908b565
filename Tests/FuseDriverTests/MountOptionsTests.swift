import FuseDriver
import Testing

/// The `-o` parser on its own (the mounts themselves are in FuseTests).
struct MountOptionsTests {
    private static let gibibyte: UInt64 = 1 << 30

    private func parse(_ text: String, memory: UInt64 = 8 * gibibyte) throws(MountOptionError) -> MountOptions {
        try MountOptions(parsing: text, physicalMemory: memory)
    }

    private func refusal(_ text: String, memory: UInt64 = 8 * gibibyte) -> String? {
        do {
            _ = try parse(text, memory: memory)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func emptyTextGivesTheDefaults() throws {
        #expect(try parse("") == MountOptions())
        #expect(try parse(",,") == MountOptions())
        let defaults = MountOptions()
        #expect(defaults.reportedUID == nil && defaults.reportedGID == nil && defaults.cacheBytes == nil)
        #expect(defaults.vaultOptions.cacheBytes == 64 << 20)
    }

    @Test func flagsAndTimeouts() throws {
        let options = try parse("ro,allow_other,default_permissions,report_init,report_requests,noexec,nosuid,nodev,attr_timeout=2.5,entry_timeout=0,max_threads=4")
        #expect(options.readOnly && options.allowOther && options.defaultPermissions && options.reportsNegotiation && options.reportsRequests && options.noExec)
        #expect(options.attributeTimeout == 2.5 && options.entryTimeout == 0 && options.maximumThreads == 4)
        #expect(MountOptions().negativeTimeout == 1 && options.negativeTimeout == 1)
        #expect(try parse("negative_timeout=0").negativeTimeout == 0)
        #expect(try parse("negative_timeout=30").negativeTimeout == 30)
        #expect(refusal("negative_timeout")?.contains("needs a value") == true)
        // Later options win, as with mount(8).
        #expect(try parse("ro,rw").readOnly == false)
        #expect(try parse("noexec,exec").noExec == false)
        // io_uring is the default; noio_uring keeps every request on /dev/fuse.
        #expect(MountOptions().usesIOUring)
        #expect(try parse("noio_uring").usesIOUring == false)
        #expect(try parse("noio_uring,io_uring").usesIOUring)
        #expect(refusal("io_uring=1") == "mount option io_uring takes no value (io_uring=1)")
    }

    @Test func uidAndGidAreNumericIDs() throws {
        let options = try parse("uid=1000,gid=0")
        #expect(options.reportedUID == 1000 && options.reportedGID == 0)
        #expect(try parse("uid=4294967294").reportedUID == 4_294_967_294)
        for bad in ["uid=alice", "uid=-1", "uid=+5", "uid=4294967295", "uid=4294967296", "gid=", "gid=1.5"] {
            #expect(refusal(bad)?.contains("must be a numeric id") == true, "\(bad)")
        }
        #expect(refusal("uid")?.contains("needs a value") == true)
    }

    @Test func commitBoundsHowLongAnOpenFilesDataWaits() throws {
        let defaults = MountOptions().vaultOptions
        #expect(defaults.longestUnflushedWrite == 5 && defaults.idleWriteBackDelay == 0.5)
        let longer = try parse("commit=30").vaultOptions
        #expect(longer.longestUnflushedWrite == 30 && longer.idleWriteBackDelay == 0.5)
        let shorter = try parse("commit=0.1").vaultOptions
        #expect(shorter.longestUnflushedWrite == 0.1 && shorter.idleWriteBackDelay == 0.1)
        for bad in ["commit=0", "commit=0.01", "commit=3601", "commit=soon", "commit=-1", "commit="] {
            #expect(refusal(bad)?.contains("commit must be a number of seconds") == true, "\(bad)")
        }
        #expect(refusal("commit")?.contains("needs a value") == true)
    }

    @Test func cacheSizeIsInMiBOrHasASuffix() throws {
        #expect(try parse("cache_size=256").cacheBytes == 256 << 20)
        #expect(try parse("cache_size=256M").cacheBytes == 256 << 20)
        #expect(try parse("cache_size=256MiB").cacheBytes == 256 << 20)
        #expect(try parse("cache_size=512K").cacheBytes == 512 << 10)
        #expect(try parse("cache_size=512KiB").cacheBytes == 512 << 10)
        #expect(try parse("cache_size=2G").cacheBytes == 2 << 30)
        #expect(try parse("cache_size=0").cacheBytes == 0)
        #expect(try parse("cache_size=100").vaultOptions.cacheBytes == 100 << 20)
        for bad in ["cache_size=", "cache_size=lots", "cache_size=1.5", "cache_size=-1", "cache_size=12X", "cache_size=M",
                    "cache_size=5B"] {
            #expect(refusal(bad)?.contains("cache_size must be a size") == true, "\(bad)")
        }
        // At most half of the machine's memory: the cache is reserved when the vault opens.
        #expect(try parse("cache_size=4G", memory: 8 * Self.gibibyte).cacheBytes == 4 << 30)
        #expect(refusal("cache_size=4097", memory: 8 * Self.gibibyte)?.contains("more than half") == true)
        #expect(refusal("cache_size=99999999999999999G")?.contains("more than half") == true)
    }

    /// s3= is kept as given (the command parses the address, which it needs for `serve` too)
    /// and never reaches libfuse; s3_allow_remote only goes with it.
    @Test func s3AddressIsKeptForTheCommand() throws {
        let options = try parse("ro,s3=127.0.0.1:9000")
        #expect(options.s3Address == "127.0.0.1:9000" && !options.s3AllowsRemote)
        #expect(try parse("s3=[::1]:0,s3_allow_remote").s3AllowsRemote)
        #expect(try parse("s3=0.0.0.0:9000,s3_allow_remote").s3Address == "0.0.0.0:9000")
        #expect(refusal("s3") == "mount option s3 needs a value (s3=…)")
        #expect(refusal("s3=") == "mount option s3 needs an address (s3=HOST:PORT)")
        #expect(refusal("s3_allow_remote") == "s3_allow_remote is for s3=HOST:PORT, which is not given")
        #expect(refusal("s3=127.0.0.1:1,s3_allow_remote=yes") == "mount option s3_allow_remote takes no value (s3_allow_remote=yes)")
    }

    /// s3_domain= may repeat (one domain each: the list is comma-separated); the command checks
    /// the names. It only goes with s3=.
    @Test func s3DomainsAreCollectedForTheCommand() throws {
        #expect(try parse("s3=127.0.0.1:0").s3Domains.isEmpty)
        let options = try parse("s3_domain=localhost,s3=127.0.0.1:0,s3_domain=s3.example.test")
        #expect(options.s3Domains == ["localhost", "s3.example.test"])
        #expect(refusal("s3_domain=localhost") == "s3_domain is for s3=HOST:PORT, which is not given")
        #expect(refusal("s3=127.0.0.1:0,s3_domain") == "mount option s3_domain needs a value (s3_domain=…)")
        #expect(refusal("s3=127.0.0.1:0,s3_domain=") == "mount option s3_domain needs a domain (s3_domain=DOMAIN)")
    }

    @Test func unknownAndMisusedOptionsAreNamed() {
        #expect(refusal("bogus") == "unknown mount option bogus")
        #expect(refusal("ro,fsname=x") == "unknown mount option fsname=x")
        #expect(refusal("ro=1") == "mount option ro takes no value (ro=1)")
        #expect(refusal("max_threads=0")?.contains("max_threads must be 1…256") == true)
        #expect(refusal("attr_timeout=soon")?.contains("attr_timeout must be a number of seconds") == true)
        #expect(refusal("entry_timeout")?.contains("needs a value") == true)
    }
}
