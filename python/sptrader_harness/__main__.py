from sptrader_harness.server import main

main()
