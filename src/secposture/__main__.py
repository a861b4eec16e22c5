from secposture.cli.main import main

main()
