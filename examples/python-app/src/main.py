import six

print("hello from python-app, six", six.__version__)
