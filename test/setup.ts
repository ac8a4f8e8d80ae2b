import '../bin/polyfills';
import 'aws-sdk-client-mock-vitest/extend';
