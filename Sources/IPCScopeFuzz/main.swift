print("fuzz harness: not built yet")
