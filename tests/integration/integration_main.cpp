#define BOOST_TEST_MODULE voicebridge integration tests
#include <boost/test/unit_test.hpp>
