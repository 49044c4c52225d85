module example.com/webapi

go 1.19
