print("shardvault")
