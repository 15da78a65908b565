print("shardvault-bench")
